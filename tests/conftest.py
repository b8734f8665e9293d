import sys
from pathlib import Path

# tests import the independent annex reader (tests/annex_text.py) as a plain module
sys.path.insert(0, str(Path(__file__).resolve().parent))
