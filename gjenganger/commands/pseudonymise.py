"""`gjenganger pseudonymise`: keyed HMAC-SHA256 of identity columns, for the
exporter.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from gjenganger.errors import UserError
from gjenganger.store import audit
from gjenganger.store.keys import pseudonym, read_key_file


def register(sub) -> None:
    p = sub.add_parser(
        "pseudonymise",
        help="replace identity columns of a CSV by keyed HMAC-SHA256 pseudonyms",
        description="For the police system's exporter: every value of the named "
        "columns becomes 'P' + 24 letters derived from HMAC-SHA256(key, value), a "
        "contract-valid pseudonym with no digits. The same key and value always give "
        "the same pseudonym. Refuses a key file readable by others or shorter than "
        "32 bytes; keys and raw values are never logged.",
    )
    p.add_argument(
        "--key-file", type=Path, required=True, help="secret key, >= 32 bytes, mode 600"
    )
    p.add_argument(
        "--columns", required=True, help="comma-separated columns to pseudonymise"
    )
    p.add_argument("input", type=Path, help="CSV file (UTF-8, header row)")
    p.add_argument("output", type=Path, help="CSV file to write")
    p.add_argument("--json", action="store_true", help="print counts as JSON")
    p.set_defaults(func=run, audit_db=None)


def run(args) -> int:
    key = read_key_file(args.key_file)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    if not columns:
        raise UserError("--columns names no column")
    if args.input.resolve() == args.output.resolve():
        raise UserError("output must differ from input")
    try:
        src = args.input.open("r", encoding="utf-8", newline="")
    except OSError as exc:
        raise UserError(f"cannot read {args.input}: {exc.strerror}") from exc
    tmp = args.output.with_name(args.output.name + ".partial")
    rows = 0
    try:
        with src, tmp.open("w", encoding="utf-8", newline="") as dst:
            reader = csv.DictReader(src)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(f"{args.input}: no column(s) {', '.join(missing)}")
            writer = csv.DictWriter(
                dst, fieldnames=reader.fieldnames, lineterminator="\n"
            )
            writer.writeheader()
            for row in reader:
                for c in columns:
                    if row[c]:
                        row[c] = pseudonym(key, row[c])
                writer.writerow(row)
                rows += 1
        tmp.replace(args.output)
    except UnicodeDecodeError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"{args.input}: not UTF-8") from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {args.output}: {exc.strerror}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    audit.wrote(args.output)
    audit.counted(rows=rows)
    doc = {"rows": rows, "columns": columns, "output": str(args.output)}
    print(
        json.dumps(doc) if args.json else f"{rows} rows pseudonymised -> {args.output}",
        file=sys.stdout,
    )
    return 0
