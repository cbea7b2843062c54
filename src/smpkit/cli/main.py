"""Entry point of the `smpkit` command (placeholder until the CLI lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["demo"]:
        from smpkit.protocol import encode_request
        from smpkit.protocol.groups.os import Echo

        print("smpkit demo: echo request", encode_request(Echo(d="hello"), 0).hex())
        return 0
    print("usage: smpkit demo")
    return 2


if __name__ == "__main__":
    sys.exit(main())
