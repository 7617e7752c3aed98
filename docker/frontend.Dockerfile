# nginx with the page and the same proxy rules as the local stack
FROM nginx:1.27-alpine
COPY frontend /usr/share/nginx/html
COPY conf/nginx/proxy_params.conf /etc/nginx/imagesearch/proxy_params.conf
COPY conf/nginx/trace.conf /etc/nginx/imagesearch/trace.conf
COPY conf/nginx/page_headers.conf /etc/nginx/imagesearch/page_headers.conf
# PROTECT_READS parsed once, the signing key hashed, the APIs asked (before the templates)
COPY --chmod=0755 docker/nginx/imagesearch-env.envsh /docker-entrypoint.d/15-imagesearch-env.envsh
COPY conf/nginx/locations.conf.template /etc/nginx/templates/locations.inc.template
COPY conf/nginx/refresh.conf.template /etc/nginx/templates/refresh.inc.template
COPY conf/nginx/docker.conf.template /etc/nginx/templates/default.conf.template
ENV NGINX_CONF_DIR=/etc/nginx/imagesearch \
    FRONTEND_ROOT=/usr/share/nginx/html \
    NGINX_MAX_BODY=512m \
    NGINX_SEARCH_MAX_BODY=21m \
    NGINX_SERVER_NAMES="localhost 127.0.0.1" \
    NGINX_REAL_IP_FROM=unix: \
    NGINX_REFRESH_HOST=frontend \
    PROTECT_READS=false \
    INGESTAPI_UPSTREAM=ingestapi:8000 \
    SEARCHAPI_UPSTREAM=searchapi:8000 \
    CDNAPI_UPSTREAM=cdnapi:8000
