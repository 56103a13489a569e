"""``encours init``: a few questions, then ``encours.toml``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from encours.connectors.errors import ConfigError

SOURCE_KEYS = {
    "pennylane": 'token_env = "PENNYLANE_TOKEN"\n',
    "sage": 'client_id_env = "SAGE_CLIENT_ID"\nclient_secret_env = "SAGE_CLIENT_SECRET"\nbusiness_id = ""\n',
    "odoo": 'url = "https://example.odoo.com"\ndatabase = "example"\nlogin = "compta@example.fr"\n'
    'api_key_env = "ODOO_API_KEY"\n',
    "fec": 'path = "FEC.txt"\n',
    "csv": 'path = "factures.csv"\n# payments = "paiements.csv"\n# customers = "clients.csv"\n',
    "demo": "",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser("init", parents=list(parents), help="answer a few questions and write encours.toml")
    parser.add_argument("-c", "--config", default="encours.toml", help="file to write (default: encours.toml)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument("--defaults", action="store_true", help="ask nothing: write the defaults")
    parser.set_defaults(handler=run)


def ask(question: str, default: str, choices: tuple[str, ...] = (), *, interactive: bool) -> str:
    """One answer from standard input (a terminal or a pipe); the default when empty or at its end."""
    if not interactive:
        return default
    hint = f" [{'/'.join(choices)}]" if choices else ""
    while True:
        try:
            answer = input(f"{question}{hint} ({default}): ").strip() or default
        except EOFError:
            print()
            return default
        if not choices or answer in choices:
            return answer
        print(f"  please answer one of: {', '.join(choices)}")


def toml_text(value: str) -> str:
    """A TOML basic string: a company name such as 'Dupont "& fils"' stays one value."""
    return json.dumps(value, ensure_ascii=False)


def run(args: argparse.Namespace) -> int:
    from encours.sync.config import load_config

    target = Path(args.config)
    if target.exists() and not args.force:
        raise ConfigError("already exists (use --force to overwrite)", file=str(target))
    interactive = not args.defaults
    name = ask("Company name", "Ma Société SARL", interactive=interactive)
    country = ask("Country", "FR", ("FR", "BE"), interactive=interactive)
    language = ask("Default language of messages", "fr" if country == "FR" else "nl", ("fr", "nl", "en"),
                   interactive=interactive)
    source = ask("Accounting source", "demo", tuple(SOURCE_KEYS), interactive=interactive)
    sheet = ask("Sheet", "xlsx", ("xlsx", "excel", "gsheets"), interactive=interactive)
    sheet_keys = (
        'spreadsheet_id = ""\ncredentials_env = "GOOGLE_APPLICATION_CREDENTIALS"\n'
        if sheet == "gsheets"
        else 'path = "encours.xlsx"\n'
    )
    mode = ask("Sending mode", "outbox", ("outbox", "smtp"), interactive=interactive)
    sending_keys = (
        'outbox = "outbox"\n'
        if mode == "outbox"
        else 'host = "smtp.example.fr"\nport = 587\nsecurity = "starttls"\nuser_env = "SMTP_USER"\n'
        'password_env = "SMTP_PASSWORD"\nfrom = "compta@example.fr"\ncc_salesperson = true\n'
    )
    text = (
        f'[company]\nname = {toml_text(name)}\ncountry = "{country}"\n'
        f'timezone = "{"Europe/Brussels" if country == "BE" else "Europe/Paris"}"\n'
        f'language = "{language}"\nstate = "encours-state.sqlite"\n\n'
        f'[source]\ntype = "{source}"\n{SOURCE_KEYS[source]}\n'
        f'[sheet]\ntype = "{sheet}"\n{sheet_keys}\n'
        f'[sending]\nmode = "{mode}"\n{sending_keys}window = "08:30-18:00"\n\n'
        '[scenarios]\ndefault = "standard"\n\n[schedule]\nevery = "15m"\n'
    )
    draft = target.with_name(f".{target.name}.draft")
    draft.write_text(text, encoding="utf-8")
    try:
        load_config(draft, environ={})  # what we write must load
        draft.replace(target)
    finally:
        draft.unlink(missing_ok=True)
    print(f"Wrote {target}. Next: `encours check -c {target}`, then `encours sync -c {target}`.")
    return 0
