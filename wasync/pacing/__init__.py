"""Pacing and retries: the rate gates every HTTP call passes through (``gate``), the retry
policy (``retry``), and the documented limits each provider declares (``limits``).

Below the session (which builds an account's gate and read retries) and the executor (which
retries changes), so that neither has to import the other to share them. Import from the
modules: ``limits`` is cheap (the providers' plugins need it to be named), ``retry`` brings
in tenacity.
"""
