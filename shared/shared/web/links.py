from fastapi import Request


def next_link(request: Request, **params: str | int) -> str:
    """This request's path and query, with ``params`` set: the link to the next page."""
    url = request.url.include_query_params(**params)
    return f"{url.path}?{url.query}"
