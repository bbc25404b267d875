"""adaptor_leaderboard: the organisers' ledger, ranking, container runs and published leaderboard."""

from adaptor_leaderboard.ledger import Ledger, LedgerError, Submission
from adaptor_leaderboard.ranking import PhaseRules, Standing, rank_phase

__all__ = ["Ledger", "LedgerError", "PhaseRules", "Standing", "Submission", "rank_phase"]
