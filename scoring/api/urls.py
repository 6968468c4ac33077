from django.urls import path

from . import exchange, letters, views

scores = views.ResultViewSet
assessments = views.AssessmentViewSet

urlpatterns = [
    path("norms/<int:year>/", views.NormsView.as_view(), name="norms-detail"),
    path("schemes/<int:year>/", views.SchemeView.as_view(), name="scheme-detail"),
    path("scores/", scores.as_view({"get": "list"}), name="score-list"),
    path("scores/export/", views.ScoresExportView.as_view(), name="score-export"),
    path("scores/<int:year>/<str:code>/", scores.as_view({"get": "retrieve"}), name="score-detail"),
    path("assessments/", assessments.as_view({"get": "list"}), name="assessment-list"),
    path("assessments/<int:pk>/", assessments.as_view({"get": "retrieve"}), name="assessment-detail"),
    path("assessments/<int:pk>/sheets/<str:source>/entries/<str:indicator_code>/", views.EntryView.as_view(),
         name="sheet-entry"),
    path("assessments/<int:pk>/sheets/<str:source>/submit/", views.SubmitView.as_view(), name="sheet-submit"),
    path("assessments/<int:pk>/sheets/<str:source>/return/", views.ReturnView.as_view(), name="sheet-return"),
    path("aggregations/", views.AggregationListView.as_view(), name="aggregation-list"),
    path("years/<int:year>/letters/", letters.LetterListView.as_view(), name="letter-list"),
    path("years/<int:year>/letters/<str:use>/<str:fmt>/", letters.LetterFileView.as_view(), name="letter-file"),
    path("years/<int:year>/package/", exchange.PackageView.as_view(), name="district-package"),
    path("years/<int:year>/package/xlsx/", exchange.PackageXlsxView.as_view(), name="district-package-xlsx"),
    path("exchange/schema/", exchange.PackageSchemaView.as_view(), name="district-package-schema"),
    path("years/<int:year>/notice/", views.YearNoticeView.as_view(), name="year-notice"),
    path("years/<int:year>/publish/", views.YearPublishView.as_view(), name="year-publish"),
    path("aggregations/<int:pk>/", views.AggregationDetailView.as_view(), name="aggregation-detail"),
]
