"""ocppscope's terminal UI: the live view of a proxy and the replay of captures, built on Textual.

- :mod:`tui.index`, :mod:`tui.inputs`, :mod:`tui.loader`, :mod:`tui.analysis`: rows of a capture or stream,
  indexed without a widget (or a Python object) per frame, and the analysis applied to them.
- :mod:`tui.filters`: the filter language (``action == "BootNotification" && severity >= warning``).
- :mod:`tui.app` and the widgets and screens it composes.
"""
