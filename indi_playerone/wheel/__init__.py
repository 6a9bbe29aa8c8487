"""The Phoenix filter-wheel driver, ``indi_playerone_wheel``: the driver policy over
``camera/wheel_*.py`` (the wheel SDK's binding and backend), on the generic INDI machinery of
``indi/``."""
