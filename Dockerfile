FROM python:3.11-slim-bookworm
# Cairo (driver-diagram PNGs) and Pango (board-pack PDFs).
RUN apt-get update && apt-get install -y --no-install-recommends libcairo2 libpango-1.0-0 \
    libpangoft2-1.0-0 && rm -rf /var/lib/apt/lists/*
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
RUN pip install --no-cache-dir -c constraints.txt -e .
COPY . .
# collectstatic needs settings that pass the production checks; the real secret comes at run time.
RUN DEBUG=false SECRET_KEY=build-only-not-secret-build-only-not-secret-000000 \
    ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 qi && chown -R qi /app
USER qi
EXPOSE 8000
CMD ["gunicorn", "qi_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
