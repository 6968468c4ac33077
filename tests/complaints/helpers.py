"""Helpers shared by the complaints tests."""

import io

from PIL import Image


def make_image(fmt="JPEG", size=(64, 48), exif=True) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    kwargs = {}
    if exif and fmt in ("JPEG", "WEBP", "PNG"):
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {1: "N", 2: (30.0, 35.0, 10.0), 3: "E", 4: (121.0, 22.0, 5.0)}  # GPS
        kwargs["exif"] = data.tobytes()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def submit_case(institution, **overrides):
    """Store a case through the service (as the public form would) and return (case, receipt code)."""
    from complaints import services

    data = {"institution": institution, "kind": "complaint", "description": "柜员索要好处费", "anonymous": True}
    data.update(overrides)
    receipt = services.submit(services.Submission(**data))
    return receipt.complaint, receipt.receipt_code


def act(case, action, user, **data):
    from complaints import services

    return services.perform_action(case.pk, action, user, services.ActionInput(**data))
