from django.urls import path

from risks import views

app_name = "risks"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("heatmap/", views.heatmap, name="heatmap"),
    path("risks/", views.risk_list, name="list"),
    path("risks/export.csv", views.register_export_csv, name="export-csv"),
    path("risks/export.xlsx", views.register_export_xlsx, name="export-xlsx"),
    path("risks/<str:code>/", views.risk_detail, name="detail"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/<str:quarter>/", views.review_detail, name="review"),
    path("reviews/<str:quarter>/finalise/", views.review_finalise, name="review-finalise"),
    path("reviews/<str:quarter>/accept/<str:code>/", views.review_accept, name="review-accept"),
    path("reviews/<str:quarter>/export.csv", views.review_export_csv, name="review-export-csv"),
    path("reviews/<str:quarter>/export.xlsx", views.review_export_xlsx, name="review-export-xlsx"),
    path("reviews/<str:quarter>/pack.pdf", views.review_pack_pdf, name="review-pack-pdf"),
]
