from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("activities/", views.home, name="home"),
    path("activities/ledger/", views.ledger, name="ledger"),
    path("activities/ledger/export.xlsx", views.ledger_export, name="ledger-export"),
    path("activities/ledger/new/", views.activity_new, name="activity-new"),
    path("activities/ledger/<int:pk>/", views.activity_detail, name="activity"),
    path("activities/ledger/<int:pk>/edit/", views.activity_edit, name="activity-edit"),
    path("activities/ledger/<int:pk>/files/", views.activity_files, name="activity-files"),
    path("activities/ledger/<int:pk>/delete/", views.activity_delete, name="activity-delete"),
    path("activities/files/<int:pk>/", views.activity_file, name="activity-file"),
    path("activities/trainings/", views.trainings, name="trainings"),
    path("activities/trainings/<int:pk>/", views.training_detail, name="training"),
    path("activities/trainings/<int:pk>/import/", views.training_import, name="training-import"),
    path("activities/actions/", views.actions, name="actions"),
    path("activities/actions/<int:pk>/edit/", views.action_edit, name="action-edit"),
    path("activities/actions/<int:pk>/showcase/", views.action_showcase, name="action-showcase"),
    path("activities/kinds/", views.kinds, name="kinds"),
    path("activities/showcases/", views.showcases, name="showcases"),
    path("activities/notices/", views.notices, name="notices"),
    path("activities/notices/<int:pk>/", views.notice_detail, name="notice"),
    path("activities/attachments/<int:pk>/", views.notice_attachment, name="notice-attachment"),
    path("activities/returns/<int:pk>/submit/", views.return_submit, name="return-submit"),
    path("activities/returns/<int:pk>/decide/", views.return_decide, name="return-decide"),
    path("activities/returns/<int:pk>/file/", views.return_file, name="return-file"),
    path("activities/campaigns/", views.campaigns, name="campaigns"),
    path("activities/campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("activities/evidence/<int:assessment_pk>/<str:code>/", views.evidence_picker, name="evidence"),
    path("activities/archives/", views.archives, name="archives"),
    path("activities/archives/<int:pk>/", views.archive_detail, name="archive"),
    path("activities/archives/<int:pk>/download/", views.archive_download, name="archive-download"),
    path("activities/calendar/", views.calendar, name="calendar"),
    path("activities/calendar/<str:token>.ics", views.calendar_ics, name="calendar-ics"),
]
