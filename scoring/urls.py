from django.urls import path

from . import portrait_views, views

app_name = "scoring"

urlpatterns = [
    path("scoring/", views.my_assessments, name="home"),
    path("scoring/years/<int:year>/", views.year_overview, name="year-overview"),
    path("points/me/", portrait_views.my_portrait, name="my-portrait"),
    path("points/employees/<int:pk>/", portrait_views.portrait, name="portrait"),
    path("points/employees/<int:pk>/record/", portrait_views.record, name="record-points"),
    path("points/employees/<int:pk>/exemplar/", portrait_views.confirm_exemplar, name="confirm-exemplar"),
    path("points/staff/", portrait_views.staff_points, name="staff-points"),
    path("points/blacklist/", portrait_views.blacklist, name="blacklist"),
    path("points/blacklist/<int:pk>/decide/", portrait_views.decide_blacklist, name="decide-blacklist"),
    path("scoring/years/<int:year>/<str:action>/", views.year_action, name="year-action"),
    path("scoring/assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("scoring/assessments/<int:pk>/objection/", views.file_objection, name="file-objection"),
    path("scoring/evidence/<int:pk>/", views.evidence_file, name="evidence"),
    path("scoring/objections/<int:pk>/decide/", views.decide_objection, name="decide-objection"),
    path("scoring/assessments/<int:pk>/<str:source>/", views.sheet_form, name="sheet"),
    path("scoring/assessments/<int:pk>/<str:source>/submit/", views.submit_sheet, name="submit"),
    path("scoring/assessments/<int:pk>/<str:source>/return/", views.return_sheet, name="return"),
    path("scoring/assessments/<int:pk>/<str:source>/template.xlsx", views.sheet_template, name="template"),
    path("scoring/assessments/<int:pk>/<str:source>/upload/", views.sheet_upload, name="upload"),
]
