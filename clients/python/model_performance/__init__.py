"""Client for the model-performance tracking API.

    from model_performance import PerformanceTracker

    tracker = PerformanceTracker(model_name="nba-game-predictor", endpoint="http://127.0.0.1:8080")
    tracker.log_prediction(model_version="v1.2.3", prediction=0.64, prediction_id="g-123")
    tracker.log_actual(prediction_id="g-123", actual=1)
    tracker.flush()
    print(tracker.get_metrics(time_window="7d")["accuracy"])
"""

from .delivery import TrackerStats
from .tracker import PerformanceTracker
from .transport import ApiError

__all__ = ["ApiError", "PerformanceTracker", "TrackerStats"]
__version__ = "0.1.0"
