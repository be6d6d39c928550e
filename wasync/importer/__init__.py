"""Import: write spec entries for what an account holds today, so adopting wasync needs no
retyping and the first plan after it has nothing to do.

How it decides (the planner does the matching, so import and plan never disagree):

- The account is read in full: every template with its components, and the QR codes of
  every phone number known (QR codes, and on some providers templates, are listed per
  number: the numbers come from the account's specs and from ``--phone``).
- The specs of the account are planned against that remote state, with pruning off:
  - remote resources no spec names (the plan's *unmanaged*) are **added**, to
    ``<DIR>/imported/<account>-qr-codes.yaml`` and ``<account>-templates.yaml`` (appended, in
    address order, when those files exist);
  - spec entries that differ from the remote (the plan's *updates*) are **reported and left
    as they are**: they may be edits waiting for an apply. With ``overwrite`` they are
    rewritten in place to match the remote instead, keeping the entry's comments, its
    ``protect``, its label, and what the provider never returns (a media header's sample URL,
    a TTL the provider does not read back);
  - spec entries the provider lacks (the plan's *creates*) are reported; import never
    removes a spec entry.
- A remote resource wasync cannot represent exactly (a legacy category such as ``OTP``, a
  component kind it does not model, a shape its rules refuse) is skipped with a warning
  naming it, and stays unmanaged. Import writes only entries that pass ``wasync validate``
  and plan as "no change" against what was read.
- A QR code has no name at the provider: its label is made from its code (``qr-<code>``,
  lowercased) and the entry pins ``code:``, so its identity survives any later edit.
- A media header's sample file that the provider does not return: the entry gets a
  placeholder URL with a comment saying to replace it (the URL is only sent when the template
  is changed).

After writing, the folder is loaded and planned again; if that does not give "valid, no
change" for everything written, every file is restored and the run fails as a bug.

Modules, in the order an import runs: ``account`` (the account, its specs, the numbers to
read; the only module that reads wasync.yaml), reading through ``wasync.refresh``, ``decide``
(the plan's verdicts), ``entries`` (remote -> spec entry), ``vet`` (may it be written?),
``writer`` (write, prove, restore); ``result`` is what the command reports.
"""

from wasync.importer.entries import SAMPLE_PLACEHOLDER
from wasync.importer.result import Differing, ImportResult, Note, Skipped
from wasync.importer.run import ImportOptions, import_account
from wasync.importer.writer import IMPORTED_DIR, ImportBugError

__all__ = [
    "IMPORTED_DIR",
    "SAMPLE_PLACEHOLDER",
    "Differing",
    "ImportBugError",
    "ImportOptions",
    "ImportResult",
    "Note",
    "Skipped",
    "import_account",
]
