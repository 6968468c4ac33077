from .. import access


class InstitutionScopedMixin:
    """API views: the queryset holds only what the caller may see, so others' objects give 404."""

    institution_path = "institution"

    def get_queryset(self):
        # A list's `?district=` naming a district the caller does not act in is a 404 (API.md, Districts).
        if getattr(self, "action", None) == "list" and self.request.query_params.get("district"):
            access.resolve_district(self.request.user, self.request.query_params["district"])
        return access.scope_queryset(super().get_queryset(), self.request.user, self.institution_path)
