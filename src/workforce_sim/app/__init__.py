"""The page where a director moves the levers (``workforce-sim app``): a local web page over the Python API.

:mod:`.choices` says what can be chosen and loads, saves and checks a choice as a scenario file is;
:mod:`.running` runs it through :func:`workforce_sim.api.run`; :mod:`.page` is the Shiny page;
:mod:`.server` serves it on this machine.
"""
