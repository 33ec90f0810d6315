/** Sends a server-rendered page. preact-render-to-string escapes every text by default. */
import type { FastifyReply } from 'fastify';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';

export function pageHtml(node: VNode): string {
  return '<!DOCTYPE html>\n' + render(node);
}

export function sendPage(reply: FastifyReply, node: VNode, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(pageHtml(node));
}
