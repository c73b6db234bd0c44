"""Handing a stored file (upload, report export) to the caller who may have it.

Media storage is a setting (`MEDIA_STORAGE`, config/settings.py): local files under
MEDIA_ROOT, or an S3-compatible bucket through django-storages. The caller's right to the
file is checked by the view before this is called; then:
- local files stream through the web process (the only place they can be read from);
- a bucket's object is never streamed through a worker: the answer is a redirect to a
  signed link that works for `MEDIA_LINK_SECONDS` and names the file as an attachment.
The bucket stays private, so the link is the only way in.
"""

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header


def file_download_response(file: FieldFile, *, filename: str, content_type: str | None = None) -> HttpResponse:
    """An attachment response for `file`: its bytes, or a redirect to a signed link when the
    storage signs its URLs (S3)."""
    storage = file.storage
    if getattr(storage, "querystring_auth", False):
        parameters = {"ResponseContentDisposition": content_disposition_header(True, filename)}
        if content_type:
            parameters["ResponseContentType"] = content_type
        url = storage.url(file.name, parameters=parameters, expire=settings.MEDIA_LINK_SECONDS)
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"  # the link is the caller's, not a shared cache's
        return response
    return FileResponse(file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
