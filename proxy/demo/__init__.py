"""Demo traffic: real ``ocpp`` package peers playing scenarios, a recording relay, the bundled captures.

Building blocks, each usable on its own:

- :func:`proxy.demo.backend.start_central_system` starts a 1.6 central system / 2.0.1 CSMS on loopback
  (``.host``, ``.port``, ``.url``, ``await .stop()``), misbehaving as a :class:`BackendBehaviour` says.
- :func:`proxy.demo.scenarios.run_charge_point` plays a :class:`Scenario`'s charger against any base URL:
  the backend itself, the recording relay, or the real proxy in front of the backend.
- :class:`proxy.demo.recorder.RecordingRelay` relays chargers to a backend and reports core events.
- :mod:`proxy.demo.runner` combines them; :mod:`proxy.demo.record_captures` writes ``captures/``;
  ``python -m ocppscope.proxy.demo`` checks the bundled captures.
"""
