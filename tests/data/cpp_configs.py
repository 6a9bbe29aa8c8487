"""Configuration files as the Player One C++ driver (and libindi) write them, for the tests that load
them: single-quoted attributes, indented values, properties we do not have. ``{device}`` stands for
the device name (``str.format``; escape ``<``, ``>`` in a nickname)."""

#: Upload settings, capture format, gain, scope and polling: with CCD_CONTROLS as the C++ driver
#: wrote it before the feature-set work.
SAVED_SETTINGS = """<INDIDriver>
<newTextVector device='{device}' name='UPLOAD_SETTINGS'>
  <oneText name='UPLOAD_DIR'>
      /data/astro
  </oneText>
  <oneText name='UPLOAD_PREFIX'>
      M31_XXX
  </oneText>
</newTextVector>
<newSwitchVector device='{device}' name='CCD_CAPTURE_FORMAT'>
  <oneSwitch name='POA_RAW8'>
      On
  </oneSwitch>
  <oneSwitch name='POA_RAW16'>
      Off
  </oneSwitch>
</newSwitchVector>
<newNumberVector device='{device}' name='CCD_CONTROLS'>
  <oneNumber name='Gain'>
      120
  </oneNumber>
</newNumberVector>
<newNumberVector device='{device}' name='SCOPE_INFO'>
  <oneNumber name='FOCAL_LENGTH'>
      530
  </oneNumber>
  <oneNumber name='APERTURE'>
      106
  </oneNumber>
</newNumberVector>
<newNumberVector device='{device}' name='POLLING_PERIOD'>
  <oneNumber name='PERIOD_MS'>
      500
  </oneNumber>
</newNumberVector>
</INDIDriver>
"""


#: Controls, one the camera lacks (NotOnThisCamera), flips, video format, sensor mode and blink.
CONTROLS = """<INDIDriver>
<newNumberVector device='{device}' name='CCD_CONTROLS'>
  <oneNumber name='Gain'>
      222
  </oneNumber>
  <oneNumber name='NotOnThisCamera'>
      5
  </oneNumber>
  <oneNumber name='FanPower'>
      90
  </oneNumber>
</newNumberVector>
<newSwitchVector device='{device}' name='FLIP'>
  <oneSwitch name='FLIP_HORIZONTAL'>
      On
  </oneSwitch>
  <oneSwitch name='FLIP_VERTICAL'>
      Off
  </oneSwitch>
</newSwitchVector>
<newSwitchVector device='{device}' name='CCD_VIDEO_FORMAT'>
  <oneSwitch name='POA_RAW8'>
      On
  </oneSwitch>
  <oneSwitch name='POA_RAW16'>
      Off
  </oneSwitch>
</newSwitchVector>
<newSwitchVector device='{device}' name='SENSOR_MODE'>
  <oneSwitch name='MODE_0'>
      Off
  </oneSwitch>
  <oneSwitch name='MODE_1'>
      On
  </oneSwitch>
</newSwitchVector>
<newNumberVector device='{device}' name='BLINK'>
  <oneNumber name='BLINK_COUNT'>
      1
  </oneNumber>
  <oneNumber name='BLINK_DURATION'>
      0.01
  </oneNumber>
</newNumberVector>
</INDIDriver>
"""
