from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """{{ data|get_item:name }}: a dict value by a computed key (empty when absent)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
