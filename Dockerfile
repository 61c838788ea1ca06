# The scan image for scheduled runs (deploy/kubernetes, deploy/aws-batch).
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY auditor ./auditor
COPY checks ./checks
RUN pip install --no-cache-dir . && useradd --create-home auditor
USER auditor
ENTRYPOINT ["auditor"]
CMD ["scan", "--help"]
