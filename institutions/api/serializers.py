from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Institution


class InstitutionSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)

    class Meta:
        model = Institution
        fields = ["id", "code", "name", "short_name", "category", "category_label", "usc_code", "district",
                  "district_name", "is_local_corporate", "is_active"]
        read_only_fields = fields


class InstitutionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Institution
        fields = ["code", "name"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    institution = InstitutionRefSerializer(allow_null=True)
    institutions = InstitutionRefSerializer(many=True)
    districts = serializers.ListField(child=serializers.CharField(),
                                      help_text=_("授权的区县代码（机构用户为其机构所在区县）"))
