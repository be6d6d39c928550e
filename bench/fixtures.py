"""The synthetic resources the benchmarks share: one realistic template shape."""

from __future__ import annotations

from wasync.model import JsonDict

BODY = "Hi {{1}}, your order {{2}} has shipped and will arrive soon."


def template_entry(i: int, account: str, phone: str | None, body: str = BODY) -> JsonDict:
    """Spec entry ``i``: an image header, a body with two variables, a footer, two buttons."""
    entry: JsonDict = {
        "account": account,
        "name": f"tpl_{i:05}",
        "language": ("en_US", "es", "pt_BR")[i % 3],
        "category": "UTILITY",
        "components": [
            {
                "type": "HEADER",
                "format": "IMAGE",
                "example": {"header_url": "https://cdn.example/sample.png"},
            },
            {"type": "BODY", "text": body, "example": {"body_text": [["Ann", "12345"]]}},
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Track",
                        "url": "https://shop.example/t/{{1}}",
                        "example": ["https://shop.example/t/12345"],
                    },
                    {"type": "QUICK_REPLY", "text": "Help"},
                ],
            },
        ],
    }
    if phone is not None:
        entry["phone"] = phone
    return entry
