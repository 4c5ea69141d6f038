"""`cupyx.scipy` of the stand-in (special, ndimage)."""
