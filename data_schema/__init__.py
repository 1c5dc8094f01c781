"""The export contract (`contract.py`), its validation and DDL, and the open
geodata the project ships (`geodata/`, see its PROVENANCE.md)."""

from pathlib import Path

#: the packaged open geodata (district and municipality outlines, named places)
GEODATA = Path(__file__).resolve().parent / "geodata"
