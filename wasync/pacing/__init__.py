"""Pacing and retries: the rate buckets every HTTP call passes through, keyed as each
provider counts (``gate``: per provider, endpoint, credential and API, shared by the
accounts on one key, slowed down by a refusal for rate), the retry policy (``retry``), and
the documented limits each provider declares (``limits``).

Below the session (which builds an account's gate and read retries) and the executor (which
retries changes), so that neither has to import the other to share them. Import from the
modules: ``limits`` is cheap (the providers' plugins need it to be named), ``retry`` brings
in tenacity.
"""
