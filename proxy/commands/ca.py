"""``ocppscope ca``: the certificate a charger must trust to connect with wss:// to ocppscope."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "ca",
        help="print the CA certificate to install on chargers that connect with wss://",
        description="ocppscope terminates a charger's wss:// with certificates signed by its own CA, kept in "
        "ocppscope's configuration directory (created on first use). Install this certificate as the charger's "
        "trusted backend CA (some call it the 'server certificate' or 'root certificate'), then point the "
        "charger at wss://<ocppscope address>:<port>/.",
    )
    parser.add_argument("--format", choices=("pem", "der"), default="pem",
                        help="PEM text (default) or DER bytes, as some chargers' upload pages want")
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    parser.add_argument("--path", action="store_true", help="only print where the certificate file is")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from ocppscope.proxy.engine.ca import ensure_ca

    path = ensure_ca()
    if args.path:
        print(path)
        return 0
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    encoding = serialization.Encoding.DER if args.format == "der" else serialization.Encoding.PEM
    data = certificate.public_bytes(encoding)
    if args.output is not None:
        args.output.write_bytes(data)
    elif args.format == "der":
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data.decode("ascii"))
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":").upper()
    print(f"{certificate.subject.rfc4514_string()}, valid until {certificate.not_valid_after_utc:%Y-%m-%d}\n"
          f"SHA-256 {fingerprint}\nfile {path}", file=sys.stderr)
    return 0
