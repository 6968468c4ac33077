from django.urls import path

from . import city_views, letter_views, views

app_name = "scoring"

urlpatterns = [
    path("scoring/", views.my_assessments, name="home"),
    path("scoring/years/<int:year>/", views.year_overview, name="year-overview"),
    path("scoring/city/", city_views.city_exchange, name="city-exchange"),
    path("scoring/city/weights/", city_views.city_weights, name="city-weights"),
    path("scoring/city/import/", city_views.city_import, name="city-import"),
    path("scoring/years/<int:year>/letters/<str:use>.<str:fmt>", letter_views.letter_file, name="letter-file"),
    path("scoring/years/<int:year>/objections/", views.objection_list, name="objections"),
    path("scoring/years/<int:year>/<str:action>/", views.year_action, name="year-action"),
    path("scoring/assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("scoring/assessments/<int:pk>/objection/", views.file_objection, name="file-objection"),
    path("scoring/evidence/<int:pk>/", views.evidence_file, name="evidence"),
    path("scoring/objections/<int:pk>/decide/", views.decide_objection, name="decide-objection"),
    path("scoring/objections/<int:pk>/reopen/", views.reopen_for_objection, name="reopen-for-objection"),
    path("scoring/assessments/<int:pk>/<str:source>/", views.sheet_form, name="sheet"),
    path("scoring/assessments/<int:pk>/<str:source>/submit/", views.submit_sheet, name="submit"),
    path("scoring/assessments/<int:pk>/<str:source>/return/", views.return_sheet, name="return"),
    path("scoring/assessments/<int:pk>/<str:source>/template.xlsx", views.sheet_template, name="template"),
    path("scoring/assessments/<int:pk>/<str:source>/upload/", views.sheet_upload, name="upload"),
]
