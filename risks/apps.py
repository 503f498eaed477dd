from django.apps import AppConfig


def _evaluate_indicators(sender, *, reading, **kwargs) -> None:
    from risks.services import indicators_evaluate

    indicators_evaluate(reading=reading)


class RisksConfig(AppConfig):
    name = "risks"
    verbose_name = "Risk register"

    def ready(self) -> None:
        from risks import signals
        from roadmap.signals import metric_reading_saved

        # Cached answers (the heatmap, the scale) are tied to the register's version.
        signals.connect()

        # A reading that crosses a key risk indicator flags its risk, in the same transaction.
        metric_reading_saved.connect(_evaluate_indicators, dispatch_uid="risks.indicators")
