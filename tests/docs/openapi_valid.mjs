// Checks that docs/openapi.yaml is a valid OpenAPI 3 document, every $ref resolved. (That it lists
// exactly the routes the server serves is checked by tests/web/api_test.cpp.) Exits 1 with the
// validator's messages otherwise.
import SwaggerParser from '@apidevtools/swagger-parser';

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  console.log(`${file}: valid OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths`);
} catch (error) {
  console.error(`${file}: ${error.message}`);
  process.exit(1);
}
