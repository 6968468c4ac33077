"""Public pages under /q/ and /s/ (no login) and staff pages under /complaints/."""

from django.urls import path

from . import staff_views, views

app_name = "complaints"

urlpatterns = [
    # Public: the QR form, receipts, tracking, QR images and questionnaires.
    path("q/track/", views.track, name="track"),
    path("q/receipt.png", views.receipt_image, name="receipt-image"),
    path("q/<str:public_code>/", views.public_form, name="public-form"),
    path("q/<str:public_code>/qr.<str:fmt>", views.qr_image, name="qr"),
    path("q/<str:public_code>/survey/", views.survey_by_code, name="survey"),
    path("s/<str:token>/", views.survey_link, name="survey-link"),
    # Staff: the triage queue, cases, statistics, posters and questionnaire links.
    path("complaints/", staff_views.queue, name="queue"),
    path("complaints/<int:pk>/", staff_views.case_detail, name="case-detail"),
    path("complaints/<int:pk>/actions/<str:action>/", staff_views.case_action, name="case-action"),
    path("complaints/<int:pk>/notes/", staff_views.case_note, name="case-note"),
    path("complaints/<int:pk>/reveal/", staff_views.case_reveal, name="case-reveal"),
    path("complaints/<int:pk>/images/<int:position>/", staff_views.case_image, name="case-image"),
    path("complaints/<int:pk>/images/<int:position>/original/", staff_views.case_image_original,
         name="case-image-original"),
    path("complaints/stats/", staff_views.stats, name="stats"),
    path("complaints/stats/export/", staff_views.stats_export, name="stats-export"),
    path("complaints/posters/", staff_views.posters_all, name="posters-all"),
    path("complaints/posters/<str:code>/", staff_views.poster, name="poster"),
    path("complaints/survey-links/", staff_views.survey_links, name="survey-links"),
    path("complaints/disclosure/", staff_views.disclosure, name="disclosure"),
]
