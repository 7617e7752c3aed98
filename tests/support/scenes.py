"""A library that says things about its pictures: rendered scenes uploaded through the API,
each with its caption, its colour as a tag and a file name of its colour and shape (what a
model evaluation makes its queries from)."""

import random
from io import BytesIO

import httpx

from imagesearch_dev.training.scenes import all_scenes, render
from tests.support.polling import finished_job


def upload_described_scenes(api: httpx.Client, count: int, seed: int) -> list[str]:
    """Their ids, once indexed."""
    rng = random.Random(seed)
    ids = []
    for n, scene in enumerate(rng.sample(all_scenes(), count)):
        out = BytesIO()
        render(scene, 96, rng).save(out, "PNG")
        response = api.post(
            "/api/v1/images",
            files=[("files", (f"{scene.colour}-{scene.shape}-{n}.png", out.getvalue()))],
            data={"caption": scene.caption, "tags": scene.colour},
        )
        assert response.status_code in (200, 202), response.text
        assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
        ids.append(str(response.json()["items"][0]["id"]))
    return ids
