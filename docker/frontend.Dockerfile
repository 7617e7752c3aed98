# nginx with the page and the same proxy rules as the local stack
FROM nginx:1.27-alpine
COPY frontend /usr/share/nginx/html
COPY conf/nginx/proxy_params.conf /etc/nginx/imagesearch/proxy_params.conf
COPY conf/nginx/trace.conf /etc/nginx/imagesearch/trace.conf
COPY conf/nginx/locations.conf.template /etc/nginx/templates/locations.inc.template
COPY conf/nginx/refresh.conf.template /etc/nginx/templates/refresh.inc.template
COPY conf/nginx/docker.conf.template /etc/nginx/templates/default.conf.template
ENV NGINX_CONF_DIR=/etc/nginx/imagesearch \
    FRONTEND_ROOT=/usr/share/nginx/html \
    NGINX_MAX_BODY=512m \
    NGINX_SEARCH_MAX_BODY=21m \
    NGINX_SERVER_NAMES="localhost 127.0.0.1" \
    NGINX_REAL_IP_FROM=unix: \
    NGINX_PROTECT_READS=off \
    NGINX_URL_SIGNING_KEY=unused \
    INGESTAPI_UPSTREAM=ingestapi:8000 \
    SEARCHAPI_UPSTREAM=searchapi:8000 \
    CDNAPI_UPSTREAM=cdnapi:8000
