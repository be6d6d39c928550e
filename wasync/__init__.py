"""wasync: declarative config sync for WhatsApp Business templates and QR codes."""

__version__ = "0.1.0"
