from django.urls import path

from risks import views

app_name = "risks"
urlpatterns = [
    path("heatmap/", views.heatmap, name="heatmap"),
    path("risks/", views.risk_list, name="list"),
    path("risks/<str:code>/", views.risk_detail, name="detail"),
]
