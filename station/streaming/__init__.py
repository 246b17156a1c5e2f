"""Live data out of the station, for other programs (Lab Streaming Layer)."""
