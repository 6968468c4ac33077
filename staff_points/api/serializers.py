from rest_framework import serializers

from core.masking import mask_name


class PublicBlacklistSerializer(serializers.Serializer):
    name = serializers.SerializerMethodField()
    institution = serializers.SerializerMethodField()
    violation = serializers.CharField(source="record.violation_type.name")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()

    def get_name(self, entry) -> str:
        return mask_name(entry.employee.name)

    def get_institution(self, entry) -> dict:
        return {"code": entry.employee.institution.code, "name": entry.employee.institution.name}
