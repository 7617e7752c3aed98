from fastapi import Request

from searchapi.deps import container_of
from shared.web import Checks, readiness_router


def _checks(request: Request) -> Checks:
    return {"milvus": container_of(request).vector_index().ping}


def _details(request: Request) -> dict[str, object]:
    container = container_of(request)
    return {
        "embedding": container.embedder().info(),
        "collection": container.vector_index().collection,
        # the keyword side needs BM25 (Milvus 2.5+): without it search is by meaning only
        "keyword_search": container.vector_index().has_keywords,
    }


# ready to search: Milvus answers; once ready, the model and the collection in use
router = readiness_router(_checks, details=_details)
