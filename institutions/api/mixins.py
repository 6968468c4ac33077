from .. import access


class InstitutionScopedMixin:
    """API views: the queryset holds only what the caller may see, so others' objects give 404."""

    institution_path = "institution"

    def get_queryset(self):
        return access.scope_queryset(super().get_queryset(), self.request.user, self.institution_path)
