"""Every key of the UI, for the help screen (a test checks it against the real bindings)."""

from __future__ import annotations

KEY_HELP: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Views", (
        ("1", "frame stream"),
        ("2", "chargers (Enter: that charger's frames)"),
        ("3", "findings by rule and charger (Enter: jump to the frame)"),
        ("4", "handshakes: headers, subprotocols, Basic auth, TLS, rule results"),
        ("? F1", "this help"),
        ("q", "quit (a --tui proxy stops with it)"),
    )),
    ("Frame stream", (
        ("↑ ↓ k j", "move"),
        ("PgUp PgDn Home", "page, first frame"),
        ("End f", "last frame, and follow new frames"),
        ("Enter", "frame detail: pretty JSON, its pair side by side, findings explained, raw text"),
        ("p", "jump between a request and its response"),
        ("n N", "next / previous frame with a finding (in a replay the playhead follows)"),
        ("m", "bookmark the frame (★)"),
        ("b B", "next / previous bookmark"),
        ("h", "handshake of the frame's connection"),
        ("c", "copy the frame's JSON to the clipboard"),
    )),
    ("Filter and export", (
        ("/", "edit the filter line; Enter applies, empty clears, Esc leaves it"),
        ("x", "clear the filter"),
        ("e", "export the frames shown (filtered) to a capture file"),
    )),
    ("Replay", (
        ("Space", "play / pause (live: pause / resume the screen, frames keep being recorded)"),
        ("s", "speed 1× → 10× → 100× → as fast as possible"),
        (", .", "step back / forward one frame"),
        ("g", "seek to a time: HH:MM:SS, +90s, +1m30s or an ISO date-time"),
    )),
    ("Live", (
        ("i", "inject a CALL to the charger or the backend on the frame's connection (templates, validated);"
              " injected CALLs are marked », their held-back answers «"),
    )),
    ("Frame detail", (
        ("p", "show the paired request or response"),
        ("[ ]", "previous / next frame"),
        ("1 2 3", "frame & pair, findings, raw tabs"),
        ("c", "copy the frame's JSON"),
        ("Esc q", "back"),
    )),
)
