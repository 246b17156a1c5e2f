"""pyserial URL handlers (``replay://``, ``virtual://``): modules named protocol_<scheme>."""
