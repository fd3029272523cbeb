"""What every app may use and that imports none of them: the patient-data screen and small
form helpers. The floor of the layers (docs/adr/0002-one-way-layers.md)."""
