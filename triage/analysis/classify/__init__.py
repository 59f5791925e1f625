"""Phase 3: correlate the signals and classify the bottleneck, with evidence.

`levels` judges every signal against its own baseline (robust scores, onsets); `rules/`
holds one module per family of classes, each rule scoring its candidate from those levels;
`decide` runs the table and turns the candidates into a verdict with an honest confidence;
`fleet` ranks services by the same scores.
"""

from triage.analysis.classify.decide import MIN_SCORE, Verdict, classify, status_of
from triage.analysis.classify.evidence import Candidate
from triage.analysis.classify.levels import Level, level

__all__ = ["MIN_SCORE", "Candidate", "Level", "Verdict", "classify", "level", "status_of"]
