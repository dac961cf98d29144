// /api/v1/lint (issue 15 "Resources"): `polyprov lint` of the tree the server serves, as JSON —
// the same findings as `lint --json`, with the summary. Global (the tree spans every tenant).
import { lintTree, summarize } from '../../config/lint/index.ts';
import { normalizeModel } from '../../config/models.ts';
import { TreeFiles } from '../../config/tree-source.ts';
import { ApiError } from '../problem.ts';
import type { RouteDef } from '../route.ts';

const finding = {
  type: 'object',
  properties: { severity: { type: 'string', enum: ['error', 'warning', 'info'] }, code: { type: 'string' }, file: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' }, message: { type: 'string' } },
  required: ['severity', 'code', 'file', 'line', 'column', 'message'],
  additionalProperties: false,
};

export const routes: RouteDef[] = [
  {
    method: 'GET',
    url: '/lint',
    summary: 'Lint the provisioning tree the server serves (as polyprov lint --json)',
    access: 'read',
    scope: 'global',
    schema: {
      querystring: { type: 'object', properties: { model: { type: 'string', maxLength: 32 } }, additionalProperties: false },
      response: {
        200: {
          type: 'object',
          properties: { findings: { type: 'array', items: finding }, errors: { type: 'integer' }, warnings: { type: 'integer' }, infos: { type: 'integer' } },
          required: ['findings', 'errors', 'warnings', 'infos'],
          additionalProperties: false,
        },
      },
    },
    async handler(req) {
      let model: string | undefined;
      if (typeof req.query.model === 'string') {
        model = normalizeModel(req.query.model);
        if (!model) throw new ApiError('PP_API_INVALID', 'model is not a known model: use a master-file token such as SPIP650, SSIP6000, VVX410 or Trio8800', { status: 400, pointer: '/query/model' });
      }
      const findings = await lintTree(new TreeFiles(req.root), model ? { model } : {});
      const s = summarize(findings);
      return {
        findings: findings.map((e) => ({ severity: e.severity, code: e.code, file: e.file ?? '', line: e.line ?? 0, column: e.column ?? 0, message: e.hint ? `${e.message}${/[.!?]$/.test(e.message) ? '' : '.'} ${e.hint}` : e.message })),
        ...s,
      };
    },
  },
];
