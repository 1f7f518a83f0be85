"""Service errors: one exception type carrying status, code and the extra
XML detail elements the real service adds (HeaderName, QueryParameterName,
AuthenticationErrorDetail, ...).

Messages are the service's own wording (see tests/fixtures/error_*.json),
including its typo "specifed" in InvalidResourceName.
"""

MESSAGES = {
    "AuthenticationFailed": (403, "Server failed to authenticate the request. Make sure the "
                             "value of Authorization header is formed correctly including "
                             "the signature."),
    "NoAuthenticationInformation": (401, "Server failed to authenticate the request. Please "
                                    "refer to the information in the www-authenticate header."),
    "AuthorizationFailure": (403, "This request is not authorized to perform this operation."),
    "AuthorizationPermissionMismatch": (403, "This request is not authorized to perform this "
                                        "operation using this permission."),
    "AuthorizationResourceTypeMismatch": (403, "This request is not authorized to perform this "
                                          "operation using this resource type."),
    "AuthorizationServiceMismatch": (403, "This request is not authorized to perform this "
                                     "operation using this service."),
    "AuthorizationProtocolMismatch": (403, "This request is not authorized to perform this "
                                      "operation using this protocol."),
    "AuthorizationSourceIPMismatch": (403, "This request is not authorized to perform this "
                                      "operation using this source IP {ip}."),
    "ConditionHeadersNotSupported": (400, "Condition headers are not supported."),
    "DirectoryNotEmpty": (409, "The specified directory is not empty."),
    "FileInvalidPermission": (400, "The specified permission is not valid."),
    "FileInvalidPermissionKey": (400, "The specified file permission key does not exist "
                                      "in the share."),
    "InvalidFileOrDirectoryPathName": (400, "File or directory path is too long."),
    "InvalidHeaderValue": (400, "The value for one of the HTTP headers is not in the "
                           "correct format."),
    "InvalidInput": (400, "One of the request inputs is not valid."),
    "InvalidMetadata": (400, "The metadata specified is invalid. It has characters that "
                        "are not permitted."),
    "InvalidQueryParameterValue": (400, "Value for one of the query parameters specified in "
                                   "the request URI is invalid."),
    "InvalidRange": (416, "The range specified is invalid for the current size of the "
                     "resource."),
    "InvalidResourceName": (400, "The specifed resource name contains invalid characters."),
    "InvalidUri": (400, "The requested URI does not represent any resource on the server."),
    "InvalidHttpVerb": (400, "The HTTP verb specified was not recognized by the server."),
    "LeaseAlreadyPresent": (409, "There is already a lease present."),
    "LeaseIdMismatchWithFileOperation": (412, "The lease ID specified did not match the "
                                         "lease ID for the file."),
    "LeaseIdMismatchWithLeaseOperation": (409, "The lease ID specified did not match the "
                                          "lease ID for the file."),
    "LeaseIdMissing": (412, "There is currently a lease on the file and no lease ID was "
                       "specified in the request."),
    "LeaseNotPresentWithFileOperation": (412, "There is currently no lease on the file."),
    "LeaseNotPresentWithLeaseOperation": (409, "There is currently no lease on the file."),
    "Md5Mismatch": (400, "The MD5 value specified in the request did not match with the "
                    "MD5 value calculated by the server."),
    "MetadataTooLarge": (400, "The size of the request metadata exceeds the maximum size "
                         "permitted."),
    "MissingRequiredHeader": (400, "An HTTP header that's mandatory for this request is not "
                              "specified."),
    "MissingRequiredQueryParameter": (400, "A query parameter that's mandatory for this "
                                      "request is not specified."),
    "OperationTimedOut": (500, "Operation could not be completed within the specified time."),
    "OutOfRangeInput": (400, "One of the request inputs is out of range."),
    "OutOfRangeQueryParameterValue": (400, "One of the query parameters specified in the "
                                      "request URI is outside the permissible range."),
    "ParentNotFound": (404, "The specified parent path does not exist."),
    "ReadOnlyAttribute": (409, "The specified resource is read-only and cannot be modified "
                          "at this time."),
    "RequestBodyTooLarge": (413, "The request body is too large and exceeds the maximum "
                            "permissible limit."),
    "ResourceAlreadyExists": (409, "The specified resource already exists."),
    "ResourceNotFound": (404, "The specified resource does not exist."),
    "ResourceTypeMismatch": (409, "The specified resource type does not match the type of "
                             "the existing resource."),
    "ServerBusy": (503, "The server is currently unable to receive requests. Please retry "
                   "your request."),
    "ShareAlreadyExists": (409, "The specified share already exists."),
    "ShareNotFound": (404, "The specified share does not exist."),
    "UnsupportedHttpVerb": (405, "The resource doesn't support the specified HTTP verb."),
}


class StorageError(Exception):
    """A service error answer. `details` is a list of (element, text) pairs
    appended after <Message>; text None gives an empty element (<Reason />).
    `headers` are extra response headers (e.g. Content-Range on 416).
    `front_end` marks errors the real service answers before version
    handling (no x-ms-version, Server "Microsoft-HTTPAPI/2.0")."""

    def __init__(self, code, message=None, details=None, headers=None, status=None,
                 front_end=False):
        st, msg = MESSAGES.get(code, (500, "The server encountered an internal error."))
        self.code = code
        self.status = status or st
        self.message = message or msg
        self.details = list(details or [])
        self.headers = dict(headers or {})
        self.front_end = front_end
        super().__init__("%d %s" % (self.status, code))


def header_error(code, name, value):
    """InvalidHeaderValue / MissingRequiredHeader style error naming a header."""
    details = [("HeaderName", name)]
    if value is not None:
        details.append(("HeaderValue", value))
    return StorageError(code, details=details)


def invalid_header(name, value):
    return header_error("InvalidHeaderValue", name, value)


def missing_header(name):
    return header_error("MissingRequiredHeader", name, None)


def invalid_query(name, value, reason=None):
    return StorageError("InvalidQueryParameterValue",
                        details=[("QueryParameterName", name),
                                 ("QueryParameterValue", value), ("Reason", reason)])
