"""How long planning takes: 10,000 templates and 10,000 QR codes, planned once.

Prints the CPU seconds of the plan alone (building the inputs is not counted), then its
peak memory in a second run under tracemalloc (which slows the code it traces, so the two
are measured apart). ``--drift`` sets the share of resources that differ from the remote
(default 0.05: a normal day); ``--drift 1`` is the worst case, every template edited.

    .venv/bin/python bench/plan_cpu.py [--n 10000] [--drift 0.05] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import random
import time
import tracemalloc

from fixtures import template_entry

from wasync.model import Desired, QrCode, Remote, RemoteQrCode, RemoteTemplate, Template
from wasync.plan import AccountSettings, plan
from wasync.plan.render import FORMATS, write
from wasync.providers.cams.traits import CAMS_TRAITS
from wasync.providers.nxcloud.traits import NXCLOUD_TRAITS

ACCOUNTS = {
    "shop-cams": AccountSettings(CAMS_TRAITS, prune=True),
    "shop-nx": AccountSettings(NXCLOUD_TRAITS, prune=True),
}
PHONES = [f"86185000{i:05}" for i in range(20)]


def template(i: int, text_: str) -> Template:
    return Template.model_validate(
        template_entry(i, "shop-nx", PHONES[i % len(PHONES)], body=text_)
    )


def build(n: int, drift: float) -> tuple[Desired, Remote]:
    rng = random.Random(7)  # the same inputs every run
    body = "Hi {{1}}, your order {{2}} has shipped and will arrive soon."
    templates, remote_templates, qrs, remote_qrs = [], [], [], []
    for i in range(n):
        t = template(i, body)
        templates.append(t)
        roll = rng.random()
        if roll < drift * 0.2:
            continue  # missing remotely: a create
        comps = t.canonical_components()
        comps[0] = {
            "type": "HEADER",
            "format": "IMAGE",
            "example": {"header_url": f"https://cdn/{i}"},
        }
        if roll < drift:
            comps[1] = {**comps[1], "text": body.replace("soon", "tomorrow")}  # an update
        remote_templates.append(
            RemoteTemplate(
                "shop-nx",
                t.phone,
                f"id{i}",
                t.name,
                t.language,
                t.category,
                "APPROVED",
                tuple(comps),
            )
        )
    for i in range(n):
        phone = PHONES[i % len(PHONES)]
        q = QrCode(
            account="shop-cams",
            phone=phone,
            label=f"qr-{i:05}",
            prefilled_message=f"Hello from poster {i}",
            code=f"C{i:06}",
        )
        qrs.append(q)
        roll = rng.random()
        if roll < drift * 0.2:
            continue
        message = q.prefilled_message + (" (old)" if roll < drift else "")
        remote_qrs.append(RemoteQrCode("shop-cams", phone, f"C{i:06}", message, "SVG"))
    # Strays a prune deletes: 1% of each kind.
    remote_qrs += [
        RemoteQrCode("shop-cams", PHONES[0], f"S{i:05}", "old", "SVG") for i in range(n // 100)
    ]
    remote_templates += [
        RemoteTemplate(
            "shop-nx",
            PHONES[0],
            f"s{i}",
            f"stray_{i}",
            "en_US",
            "MARKETING",
            "APPROVED",
            ({"type": "BODY", "text": "Old"},),
        )
        for i in range(n // 100)
    ]
    rng.shuffle(remote_qrs)
    rng.shuffle(remote_templates)
    return (
        Desired(qr_codes=tuple(qrs), templates=tuple(templates)),
        Remote(qr_codes=tuple(remote_qrs), templates=tuple(remote_templates)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="templates, and as many QR codes")
    parser.add_argument("--drift", type=float, default=0.05, help="share that differs")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()

    desired, remote = build(args.n, args.drift)
    times = []
    for _ in range(args.repeat):  # the best of a few runs: shared machines are noisy
        start = time.process_time()
        result = plan(desired, remote, accounts=ACCOUNTS)
        times.append(time.process_time() - start)
    data = result.data()
    checksum = result.checksum()
    rendered = time.process_time()
    for fmt in FORMATS:  # as the CLI renders them, hidden characters checked
        write(data, fmt, io.StringIO())
    rendered = time.process_time() - rendered

    tracemalloc.start()
    plan(desired, remote, accounts=ACCOUNTS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    counts = result.counts()
    total = len(desired.templates) + len(desired.qr_codes)
    print(
        f"resources: {total} desired, {len(remote.templates) + len(remote.qr_codes)} remote; "
        f"drift {args.drift:.0%}"
    )
    print(
        f"changes:   {counts['create']} create, {counts['update']} update, "
        f"{counts['replace']} replace, "
        f"{counts['delete']} delete, {result.blocked_count} blocked ({checksum[:19]}...)"
    )
    print(
        f"plan:      {min(times):.2f} s CPU (best of {len(times)}; all: "
        f"{', '.join(f'{t:.2f}' for t in times)})"
    )
    print(f"data+render (text, markdown, json): {rendered:.2f} s CPU")
    print(f"plan peak memory (tracemalloc): {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
