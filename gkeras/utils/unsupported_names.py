"""The exempt top-level and `layers` names, as NotImplementedError
stand-ins (see `gkeras.utils.unsupported`)."""

from gkeras.utils.unsupported import unsupported_class, unsupported_function

RematScope = unsupported_class("gkeras.RematScope", "remat")
remat = unsupported_function("gkeras.remat", "remat")
StatelessScope = unsupported_class("gkeras.StatelessScope", "scopes")
SymbolicScope = unsupported_class("gkeras.SymbolicScope", "scopes")
Quantizer = unsupported_class("gkeras.Quantizer", "quantizers")
TFSMLayer = unsupported_class("gkeras.layers.TFSMLayer", "backend_layers")
JaxLayer = unsupported_class("gkeras.layers.JaxLayer", "backend_layers")
FlaxLayer = unsupported_class("gkeras.layers.FlaxLayer", "backend_layers")
TorchModuleWrapper = unsupported_class("gkeras.layers.TorchModuleWrapper",
                                       "backend_layers")
