"""One module per screen of the journey. Views render state and call services."""
