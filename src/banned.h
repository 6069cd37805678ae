/*
 * Unsafe libc calls, refused at compile time (after git's banned.h).
 * Included last by common.h, after the system headers that declare them.
 */
#ifndef JANEE_BANNED_H
#define JANEE_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_janee

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)

#endif
