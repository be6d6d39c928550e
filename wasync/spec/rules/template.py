"""Template-wide rules: name, language, time-to-live, and the HEADER, BODY and FOOTER
components of MARKETING and UTILITY templates (AUTHENTICATION and CAROUSEL have their own
modules; buttons too)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath

from wasync.model import Body, BodyExample, Carousel, Footer, Header, HeaderExample, Template
from wasync.spec.rules.base import Ctx, article, ordinal
from wasync.spec.rules.languages import known_languages, nearest_languages
from wasync.spec.rules.variables import (
    check_examples,
    check_named_examples,
    check_numbering,
    check_placement,
    scan,
)
from wasync.spec.yaml import DataPath

NAME = re.compile(r"[a-z0-9_]+")
NAME_MAX = 512
HEADER_TEXT_MAX = 60
BODY_MAX = 1024
FOOTER_MAX = 60
URL_MAX = 2000
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")

# message_send_ttl_seconds by category (Meta "Configure message time-to-live")
TTL_RANGES = {
    "AUTHENTICATION": (30, 900),
    "UTILITY": (30, 43_200),
    "MARKETING": (43_200, 2_592_000),
}


def component_kind(component: object) -> str:
    return str(getattr(component, "type", "?"))


def check_name(t: Template, ctx: Ctx) -> None:
    if not t.name:
        ctx.error(("name",), f"empty; a template name has 1 to {NAME_MAX} characters")
    elif len(t.name) > NAME_MAX:
        ctx.error(("name",), f"{len(t.name)} characters; at most {NAME_MAX} allowed")
    elif not NAME.fullmatch(t.name):
        ctx.error(
            ("name",),
            f"{t.name!r} is not a valid template name; "
            "use lowercase letters, digits and underscores (a-z, 0-9, _)",
        )


def check_language(t: Template, ctx: Ctx) -> None:
    if t.language in known_languages():
        return
    near = nearest_languages(t.language)
    hint = f"; nearest known: {', '.join(near)}" if near else ""
    ctx.error(("language",), f"{t.language!r} is not a known language code{hint}")


def check_ttl(t: Template, ctx: Ctx) -> None:
    ttl = t.message_send_ttl_seconds
    if ttl is None:
        return
    low, high = TTL_RANGES[t.category]
    if not low <= ttl <= high:
        ctx.error(
            ("message_send_ttl_seconds",),
            f"{ttl} seconds; {t.category} templates allow {low} to {high}",
        )


def check_multiplicity(t: Template, ctx: Ctx) -> None:
    """At most one component of each type; BODY required outside AUTHENTICATION."""
    seen: Counter[str] = Counter()
    for i, component in enumerate(t.components):
        kind = component_kind(component)
        seen[kind] += 1
        if seen[kind] > 1:
            ctx.error(
                ("components", i),
                f"{ordinal(seen[kind])} {kind} component; a template has at most one",
            )
    if t.category != "AUTHENTICATION" and not seen["BODY"]:
        ctx.error(
            ("components",),
            f"no BODY component; every {t.category} template needs one",
        )


def check_header(
    ctx: Ctx, path: DataPath, header: Header, *, in_card: bool = False, named: bool = False
) -> None:
    """A HEADER's format, text, variable and example (in a template or a carousel card);
    ``named``: the template's variables are named (``parameter_format: NAMED``)."""
    example = header.example
    if in_card and header.format not in ("IMAGE", "VIDEO"):
        ctx.error(
            (*path, "format"), f"a carousel card header is IMAGE or VIDEO, not {header.format}"
        )
        return
    if header.format == "TEXT":
        if header.text is None:
            ctx.error(path, "a TEXT header needs `text` (at most 60 characters)")
            return
        text_path = (*path, "text")
        if ctx.length(text_path, header.text, HEADER_TEXT_MAX, what="header text"):
            ctx.one_line(text_path, header.text)
        found = scan(header.text, named=named)
        if not check_numbering(ctx, text_path, found, named=named):
            return
        if len(found.names) > 1:
            one = "{{first_name}}" if named else "{{1}}"
            ctx.error(text_path, f"{len(found.names)} variables; a header has at most one, {one}")
            return
        for key in ("header_url", "header_file"):
            if example is not None and getattr(example, key) is not None:
                ctx.error(
                    (*path, "example", key),
                    f"{key} is for IMAGE, VIDEO and DOCUMENT headers; remove it",
                )
        _example_forms(ctx, (*path, "example"), example, named, "header_text")
        if named:
            check_named_examples(
                ctx,
                (*path, "example", "header_text_named_params"),
                example.header_text_named_params if example else None,
                found.names,
                where=text_path,
                how="example: {header_text_named_params: [{param_name: ..., example: ...}]}",
            )
            return
        check_examples(
            ctx,
            (*path, "example", "header_text"),
            example.header_text if example else None,
            len(found.order),
            where=text_path,
            how='example: {header_text: ["..."]}',
        )
        return
    if header.text is not None:
        ctx.error((*path, "text"), f"{article(header.format)} header has no text; remove `text`")
    for key in ("header_text", "header_text_named_params"):
        if example is not None and getattr(example, key) is not None:
            ctx.error(
                (*path, "example", key),
                f"{key} is for TEXT headers; {article(header.format)} header has no variables",
            )
    url = example.header_url if example else None
    file = example.header_file if example else None
    if header.format == "LOCATION":
        for key, value in (("header_url", url), ("header_file", file)):
            if value is not None:
                ctx.error(
                    (*path, "example", key), f"a LOCATION header has no sample media; remove {key}"
                )
        return
    # IMAGE, VIDEO, DOCUMENT: a sample, as a public URL or a file of the spec folder
    if url is None and file is None:
        ctx.error(
            path,
            f"{article(header.format)} header needs a sample: example: {{header_url: "
            "https://...}, or {header_file: media/<file>} where the provider takes a file",
        )
    elif url is not None and file is not None:
        ctx.error((*path, "example"), "give one sample, header_url or header_file, not both")
    elif file is not None:
        check_media_file(ctx, (*path, "example", "header_file"), file, header.format)
    elif url is not None and not url.startswith(("https://", "http://")):
        ctx.error(
            (*path, "example", "header_url"),
            "not a URL; give the public https:// address of a sample file",
        )
    elif url is not None and len(url) > URL_MAX:
        ctx.error(
            (*path, "example", "header_url"), f"{len(url)} characters; at most {URL_MAX} allowed"
        )
    elif url is not None:
        ctx.one_line((*path, "example", "header_url"), url)


# What a media header's sample file may be: the types Meta's Resumable Upload API takes
# (application/pdf, image/jpeg, image/jpg, image/png, video/mp4), by format, and the sizes
# WhatsApp is said to accept (image 5 MB, video 16 MB, document 100 MB: third-party pages).
MEDIA_FILES: dict[str, tuple[tuple[str, ...], int]] = {
    "IMAGE": ((".jpg", ".jpeg", ".png"), 5 * 1024 * 1024),
    "VIDEO": ((".mp4",), 16 * 1024 * 1024),
    "DOCUMENT": ((".pdf",), 100 * 1024 * 1024),
}


def check_media_file(ctx: Ctx, path: DataPath, file: str, fmt: str) -> None:
    """A sample file: a relative path inside the spec folder, of a type the format takes,
    that exists and is not too large (where the spec folder is known)."""
    suffixes, largest = MEDIA_FILES[fmt]
    pure = PurePosixPath(file)
    if not file.strip() or pure.is_absolute() or ".." in pure.parts or "\\" in file:
        ctx.error(
            path,
            f"{file!r}: give the file's path inside the spec folder, relative to the folder "
            "holding wasync.yaml, with / between folders (e.g. media/banner.png)",
        )
        return
    if pure.suffix.lower() not in suffixes:
        ctx.error(
            path,
            f"{article(fmt)} header's sample is a {' or '.join(suffixes)} file, not "
            f"{pure.suffix or 'a file without an extension'}",
        )
        return
    if ctx.files is None:
        return
    ctx.looked_at_files = True
    found = ctx.files / pure
    try:
        size = found.stat().st_size if found.is_file() else None
    except OSError:
        size = None
    if size is None:
        ctx.error(path, f"{file}: no such file in the spec folder ({ctx.files})")
    elif size == 0:
        ctx.error(path, f"{file} is empty; give the sample file itself")
    elif size > largest:
        ctx.error(
            path,
            f"{file} is {size / 1048576:.1f} MB; {article(fmt)} sample is at most "
            f"{largest // 1048576} MB",
        )


def _example_forms(
    ctx: Ctx, path: DataPath, example: HeaderExample | BodyExample | None, named: bool, key: str
) -> None:
    """Positional examples in a NAMED template, or named ones in a positional one."""
    if example is None:
        return
    wrong = key if named else f"{key}_named_params"
    if getattr(example, wrong) is not None:
        right = f"{key}_named_params" if named else key
        why = (
            "the template's variables are named"
            if named
            else ("named examples need parameter_format: NAMED on the template")
        )
        ctx.error((*path, wrong), f"{why}: give the examples as {right}")


def check_body_text(
    ctx: Ctx, path: DataPath, body: Body, maximum: int, *, named: bool = False
) -> None:
    """Body text (top level or in a card): length, variables, placement, examples."""
    if body.text is None:
        ctx.error(path, f"a BODY needs `text` (at most {maximum} characters)")
        return
    text_path = (*path, "text")
    ctx.length(text_path, body.text, maximum, what="body text")
    found = scan(body.text, named=named)
    if not check_numbering(ctx, text_path, found, named=named):
        return
    check_placement(ctx, text_path, body.text, found)
    _example_forms(ctx, (*path, "example"), body.example, named, "body_text")
    if named:
        check_named_examples(
            ctx,
            (*path, "example", "body_text_named_params"),
            body.example.body_text_named_params if body.example else None,
            found.names,
            where=text_path,
            how="example: {body_text_named_params: [{param_name: ..., example: ...}]}",
        )
        return
    body_text = body.example.body_text if body.example else None
    values = None
    if body_text is not None:
        if len(body_text) != 1:
            ctx.error(
                (*path, "example", "body_text"),
                f"{len(body_text)} lists; body_text holds one list of values: [[v1, v2]]",
            )
            return
        values = body_text[0]
    check_examples(
        ctx,
        (*path, "example", "body_text", 0),
        values,
        len(found.order),
        where=text_path,
        how="example: {body_text: [[...]]}",
    )


def check_components(t: Template, ctx: Ctx) -> None:
    """HEADER, BODY and FOOTER of MARKETING and UTILITY templates."""
    auth = t.category == "AUTHENTICATION"
    # AUTHENTICATION templates have their own shape, and a carousel template may have no
    # top-level HEADER or FOOTER at all: authentication.py and carousel.py report those.
    carousel = any(isinstance(c, Carousel) for c in t.components)
    for i, component in enumerate(t.components):
        path: DataPath = ("components", i)
        if isinstance(component, Header) and not auth and not carousel:
            check_header(ctx, path, component, named=t.named)
        elif isinstance(component, Body) and not auth:
            check_body_text(ctx, path, component, BODY_MAX, named=t.named)
            if component.add_security_recommendation is not None:
                ctx.error(
                    (*path, "add_security_recommendation"),
                    "only AUTHENTICATION templates have a security recommendation",
                )
        elif isinstance(component, Footer) and not auth and not carousel:
            check_footer(ctx, path, component)


def check_footer(ctx: Ctx, path: DataPath, footer: Footer) -> None:
    if footer.code_expiration_minutes is not None:
        ctx.error(
            (*path, "code_expiration_minutes"),
            "only AUTHENTICATION templates have a code expiry; remove it",
        )
    if footer.text is None:
        ctx.error(path, f"a FOOTER needs `text` (at most {FOOTER_MAX} characters)")
        return
    text_path = (*path, "text")
    if ctx.length(text_path, footer.text, FOOTER_MAX, what="footer text"):
        ctx.one_line(text_path, footer.text)
    if "{{" in footer.text or "}}" in footer.text:
        ctx.error(text_path, "a footer cannot have variables; write it as fixed text")
