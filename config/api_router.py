"""Every resource under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from risks.api import views as risk_views
from roadmap.api import views as roadmap_views

router = DefaultRouter()
router.register("risks", risk_views.RiskViewSet)
router.register("assessments", risk_views.AssessmentViewSet)
router.register("mitigations", risk_views.MitigationViewSet)
router.register("triggers", risk_views.TriggerEntryViewSet)
router.register("indicators", risk_views.IndicatorViewSet)
router.register("breaches", risk_views.BreachViewSet)
router.register("reviews", risk_views.ReviewViewSet)
router.register("history", risk_views.HistoryViewSet, basename="history")
router.register("phases", roadmap_views.PhaseViewSet)
router.register("agencies", roadmap_views.AgencyViewSet)
router.register("key-actions", roadmap_views.KeyActionViewSet)
router.register("metrics", roadmap_views.MetricViewSet)

app_name = "api"
urlpatterns = [
    path("heatmap/", risk_views.HeatmapView.as_view(), name="heatmap"),
    *router.urls,
]
